"""The typed Python client of the public graph: `operations/` holds its documents, `service_tree_client/` is
generated from them and schema/api.graphql by ariadne-codegen (`make schema`; do not edit it by hand)."""
