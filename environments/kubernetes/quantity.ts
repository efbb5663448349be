const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** A Kubernetes resource quantity ("512Mi", "1.5G", "250m", "1e9") in base units, or undefined when unreadable. */
export function parseQuantity(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/.exec(text.trim());
  if (match === null) return undefined;
  const number = Number(match[1]);
  if (match[2] !== undefined) return number * 10 ** Number(match[2].slice(1));
  const suffix = match[3] ?? "";
  return number * (BINARY[suffix] ?? DECIMAL[suffix] ?? 1);
}

/** A memory quantity in MiB (0 when unset or unreadable, as the contract has no "unlimited"). */
export function memoryMib(text: string | undefined): number {
  const bytes = parseQuantity(text);
  return bytes === undefined ? 0 : Math.round(bytes / 2 ** 20);
}

/** A CPU quantity in cores (0 when unset or unreadable). */
export function cpuCores(text: string | undefined): number {
  return parseQuantity(text) ?? 0;
}
