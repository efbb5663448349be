import { formatZodError } from "../domain/problems.js";
import { READ_TOOLS } from "./definitions/read.js";
import { REMEDIATION_TOOLS } from "./definitions/remediation.js";
import type { ToolCall } from "../domain/model.js";
import type { AnyToolDefinition } from "./tool.js";

/** A call whose parameters passed the tool's schema, or why they did not. */
export type ParsedCall = { ok: true; params: Record<string, unknown> } | { ok: false; error: string };

/** The tools Suture may call, by name. */
export class ToolRegistry {
  private readonly tools = new Map<string, AnyToolDefinition>();

  /** Adds a tool; names are unique. */
  register(tool: AnyToolDefinition): this {
    if (this.tools.has(tool.name)) throw new Error(`tool "${tool.name}" is already registered`);
    this.tools.set(tool.name, tool);
    return this;
  }

  has(name: string): boolean {
    return this.tools.has(name);
  }

  /** The tool, or an error naming the known ones. */
  get(name: string): AnyToolDefinition {
    const tool = this.tools.get(name);
    if (tool === undefined) throw new Error(`unknown tool "${name}"; known tools: ${[...this.tools.keys()].sort().join(", ")}`);
    return tool;
  }

  /** Every registered tool, sorted by name. */
  list(): AnyToolDefinition[] {
    return [...this.tools.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Validates a call's parameters against its tool's schema; the error names the field. */
  parseCall(call: ToolCall): ParsedCall {
    const tool = this.tools.get(call.tool);
    if (tool === undefined) return { ok: false, error: `unknown tool "${call.tool}"; known tools: ${[...this.tools.keys()].sort().join(", ")}` };
    const parsed = tool.params.safeParse(call.params);
    if (!parsed.success) return { ok: false, error: formatZodError(parsed.error) };
    return { ok: true, params: parsed.data };
  }
}

/** A registry with every built-in read and remediation tool. */
export function createDefaultRegistry(): ToolRegistry {
  const registry = new ToolRegistry();
  for (const tool of [...READ_TOOLS, ...REMEDIATION_TOOLS]) registry.register(tool);
  return registry;
}
