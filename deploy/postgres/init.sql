-- One database per subgraph, created by the postgres image on its first start (an empty data volume) as
-- POSTGRES_USER, who owns them. The names come from SERVICE_TREE_DATABASES, which docker-compose.yml sets from
-- subgraphs/registry.py, so this script never changes when a subgraph is added. A subgraph added after the
-- volume was initialised needs its database made by hand: CREATE DATABASE <name>;
-- Needs psql 15 or newer (\getenv). The image runs it with ON_ERROR_STOP: any error stops the first start.
\getenv databases SERVICE_TREE_DATABASES
\if :{?databases}
\else
DO $$ BEGIN RAISE EXCEPTION 'SERVICE_TREE_DATABASES is not set (docker-compose.yml sets it)'; END $$;
\endif
SELECT format('CREATE DATABASE %I', name)
FROM regexp_split_to_table(:'databases', '\s+') AS name
WHERE name <> ''
\gexec
