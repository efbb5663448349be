// Suture's layers, lowest first (docs/architecture.md). A module may import its own layer and the
// layers below it, never one above; no module may be part of an import cycle. Folder-level cycles
// and SQL outside store/ are checked too (test/architecture.test.ts, eslint.config.js).
const LAYERS = [["domain"], ["store"], ["environments"], ["tools", "evidence", "memory", "reasoners", "policy", "regression"], ["graphs"], ["nodes"], ["app"], ["interfaces"]];

const folders = (layers) => `^(${layers.flat().join("|")})/`;

/** One rule per layer: nothing in it imports a folder of a higher layer. */
const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer.join("+")}`,
  comment: `${layer.join(", ")} may not import ${LAYERS.slice(i + 1)
    .flat()
    .join(", ")} (a higher layer)`,
  severity: "error",
  from: { path: folders([layer]) },
  to: { path: folders(LAYERS.slice(i + 1)) },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "no-circular",
      comment: "an import cycle between modules",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "regression-imports-domain-and-evidence",
      comment: "regression/ (the regression watch's statistics) may import domain/ and evidence/ only: it is pure, no store, no environment",
      severity: "error",
      from: { path: "^regression/" },
      to: { path: "^(store|environments|tools|memory|reasoners|policy)/" },
    },
    {
      name: "product-imports-no-tests",
      comment: "product code may not import tests or benchmarks",
      severity: "error",
      from: { path: folders(LAYERS) },
      to: { path: "^(test|bench)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|\\.suture|coverage)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"], extensions: [".ts", ".js"] },
  },
};
