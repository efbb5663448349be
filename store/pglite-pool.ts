import type { PGlite, Results } from "@electric-sql/pglite";

/** The subset of a `pg` query result Suture and the LangGraph checkpointer read. */
export interface PoolQueryResult<R> {
  rows: R[];
  rowCount: number;
  command: string;
  fields: Array<{ name: string; dataTypeID: number }>;
}

/** A leased connection: queries run alone on the single session until `release()`. */
export interface PGliteClient {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<PoolQueryResult<R>>;
  release(): void;
}

/**
 * How long (ms) the session may run queries back to back before it lets the event loop take a
 * turn. PGlite executes a query synchronously in WASM on this thread and resolves it through
 * microtasks only, so a chain of queries (a 1,000-alert intake transaction is 9,000 of them, the
 * worker's graph runs are hundreds each) never reaches I/O or timers: the HTTP server, `/healthz`
 * included, stopped answering for the whole chain. Each yield costs one event-loop turn.
 */
const SLICE_MS = 10;

function toPgResult<R>(result: Results<R>, text: string): PoolQueryResult<R> {
  return {
    rows: result.rows,
    rowCount: result.affectedRows ?? result.rows.length,
    command: text.trim().split(/\s+/)[0]?.toUpperCase() ?? "",
    fields: result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
  };
}

/**
 * A `pg.Pool`-shaped front for an embedded PGlite, built on PGlite's own query API.
 *
 * Why not `@electric-sql/pglite/node-postgres` or `pglite-socket`: measured with PGlite 0.5.14,
 * a failing *parameterized* query (e.g. a trigger raising) breaks both bridges: the next
 * queries fail with "Connection terminated unexpectedly"/EPIPE, and one simple query even
 * returned an empty result instead of its row. PGlite's own `query`/`exec` recover correctly.
 *
 * Semantics match one PostgreSQL connection: queries run one at a time, and a leased client
 * (a transaction) holds the session until it is released. Like `pg`, a query without values
 * uses the simple protocol (so multi-statement migrations work) and one with values the
 * extended protocol.
 *
 * Queries are paced: once the session has been busy for {@link SLICE_MS} without the event loop
 * turning, the next query first waits for one turn (`setImmediate`), so I/O and timers are served
 * at least every slice plus one query. A leased client keeps the session across the yield, so a
 * transaction stays one transaction; other queries still wait for its release.
 */
export class PGlitePool {
  private tail: Promise<void> = Promise.resolve();
  /** When the current run of queries without an event-loop turn began. */
  private sliceStartedAt = 0;
  /** A marker is queued for the next turn; while it is, the loop has not turned since `sliceStartedAt`. */
  private turnPending = false;

  constructor(private readonly pglite: PGlite) {}

  /** Lets the event loop turn if queries have run for a whole slice without it doing so. */
  private async pace(): Promise<void> {
    if (!this.turnPending) {
      // The loop turned since the last query (or this is the first): a new slice starts now.
      this.turnPending = true;
      this.sliceStartedAt = performance.now();
      setImmediate(() => {
        this.turnPending = false;
      });
      return;
    }
    if (performance.now() - this.sliceStartedAt < SLICE_MS) return;
    // The marker queued above runs first (immediates are FIFO), so the next query opens a new slice.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private async run<R>(text: string, values?: unknown[]): Promise<PoolQueryResult<R>> {
    await this.pace();
    if (values === undefined || values.length === 0) {
      const results = await this.pglite.exec(text);
      const last = results[results.length - 1];
      return last === undefined ? { rows: [], rowCount: 0, command: "", fields: [] } : toPgResult(last as Results<R>, text);
    }
    return toPgResult(await this.pglite.query<R>(text, values), text);
  }

  /** Waits for the session, then holds it until the returned `done` is called. */
  private async acquire(): Promise<() => void> {
    let done!: () => void;
    const released = new Promise<void>((resolve) => (done = resolve));
    const previous = this.tail;
    this.tail = previous.then(() => released);
    await previous;
    return done;
  }

  /**
   * Runs one query when the session is free. A failed multi-statement text can leave the single
   * session inside an aborted transaction, which would poison every later query, so a failure
   * outside a leased client is followed by a ROLLBACK (a no-op when no transaction is open).
   */
  async query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<PoolQueryResult<R>> {
    const done = await this.acquire();
    try {
      return await this.run<R>(text, values);
    } catch (error) {
      await this.pglite.exec("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      done();
    }
  }

  /**
   * Like {@link query}, but a multi-statement text returns the rows of every statement (a
   * `BEGIN; … RETURNING …; COMMIT` block keeps its middle result), as node-postgres does.
   */
  async queryAll<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }> {
    if (values !== undefined && values.length > 0) return this.query<R>(text, values);
    const done = await this.acquire();
    try {
      await this.pace();
      const results = await this.pglite.exec(text);
      return { rows: results.flatMap((r) => r.rows as R[]) };
    } catch (error) {
      await this.pglite.exec("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      done();
    }
  }

  /** Subscribes to NOTIFY on `channel` (in-process: PGlite delivers its own notifications). */
  async listen(channel: string, onNotification: (payload: string) => void): Promise<() => Promise<void>> {
    const done = await this.acquire();
    try {
      return await this.pglite.listen(channel, onNotification);
    } finally {
      done();
    }
  }

  /** Leases the session (for a transaction); other queries wait until `release()`. */
  async connect(): Promise<PGliteClient> {
    const done = await this.acquire();
    let released = false;
    return {
      query: <R = Record<string, unknown>>(text: string, values?: unknown[]) => {
        if (released) return Promise.reject(new Error("query on a released PGlite client"));
        return this.run<R>(text, values);
      },
      release: () => {
        if (released) return;
        released = true;
        done();
      },
    };
  }

  /** Waits for running work; closing the PGlite instance is the owner's job. */
  async end(): Promise<void> {
    await this.tail;
  }

  /** Accepts `pg.Pool` event subscriptions; an embedded session emits no connection errors. */
  on(): this {
    return this;
  }
}
