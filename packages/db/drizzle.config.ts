import { defineConfig } from "drizzle-kit";

// Generates SQL migrations from src/schema.ts: `pnpm exec drizzle-kit generate`.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema.ts",
  out: "./drizzle",
});
