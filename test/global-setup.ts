/** Says once, at the start of `npm test`, which database back ends the suites run on. */
export default function setup(): void {
  const url = process.env["TEST_DATABASE_URL"];
  const target = url !== undefined && url !== "" ? `embedded PGlite and PostgreSQL at ${url.replace(/:[^:@/]*@/, ":***@")}` : "embedded PGlite only (set TEST_DATABASE_URL to add a real PostgreSQL)";
  process.stdout.write(`[suture tests] database suites run on ${target}\n`);
}
