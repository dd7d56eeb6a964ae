// GraphQL Code Generator: typed document nodes for every operation in src/operations/*.graphql, checked
// against the public schema (schema/api.graphql, written by `make schema`), and the manifest of those
// documents (persisted-documents.json) that the router accepts in production. `npm run codegen` writes them;
// `npm run codegen -- --check` only says whether the committed files are stale.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../schema/api.graphql',
  documents: ['src/operations/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'src/gql/': {
      preset: 'client',
      presetConfig: {
        fragmentMasking: false,
        persistedDocuments: { hashAlgorithm: 'sha256' },
      },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: 'string', ID: 'string' },
        strictScalars: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
      },
    },
  },
};

export default config;
