// codegen.yml's document transform: every object selection also asks for `__typename`,
// as Apollo Client adds it to what it prints, so the persisted documents (which the
// gateway runs by hash) answer what the cache needs to normalise objects. The operation's
// root selection is left alone, as Apollo Client leaves it.
const { Kind, visit } = require('graphql');

const TYPENAME = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } };

function addTypename(document) {
  return visit(document, {
    SelectionSet(node, _key, parent) {
      if (parent && !Array.isArray(parent) && parent.kind === Kind.OPERATION_DEFINITION) return undefined;
      const has = node.selections.some((s) => s.kind === Kind.FIELD && s.name.value === '__typename' && !s.alias);
      return has ? undefined : { ...node, selections: [TYPENAME, ...node.selections] };
    },
  });
}

function transform({ documents }) {
  return documents.map((file) => ({ ...file, document: file.document && addTypename(file.document) }));
}

// A plain named export: codegen imports the file as ESM, which sees only the names cjs-module-lexer detects.
exports.transform = transform;
