// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** A SQL statement in a string: what may appear only in store/. */
const SQL = String.raw`/\b(SELECT\s+[\w*(]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX)|ALTER\s+TABLE|pg_advisory)/`;

export default tseslint.config(
  { ignores: ["node_modules/", ".suture/", "bench/results/", ".dependency-cruiser.cjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ["eslint.config.js", "interfaces/cli/*.js"] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      // Interface methods are async by contract even when an implementation needs no await.
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    // SQL lives in store/ only (docs/architecture.md): a statement anywhere else fails lint.
    files: ["**/*.ts"],
    ignores: ["store/**", "test/**", "bench/**"],
    rules: {
      "no-restricted-syntax": [
        "error",
        { selector: `Literal[value=${SQL}]`, message: "SQL belongs in store/ (one module per concern); call a store function instead" },
        { selector: `TemplateElement[value.raw=${SQL}]`, message: "SQL belongs in store/ (one module per concern); call a store function instead" },
      ],
    },
  },
  { files: ["eslint.config.js"], ...tseslint.configs.disableTypeChecked },
);
