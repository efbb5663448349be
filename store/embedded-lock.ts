import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes an exclusive, process-level lock on an embedded data directory. PGlite is one process's
 * database: a second process opening the same files would corrupt them, so it gets a clear error
 * instead. A lock left by a dead process (SIGKILL) is taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = `${dataDir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(file, "utf8").trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw new Error(`the embedded database at ${dataDir} is in use by process ${holder}; stop it, or set DATABASE_URL to a PostgreSQL server to run several processes`, { cause: error });
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not lock the embedded database at ${dataDir}`);
}
