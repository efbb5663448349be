// The client's model classes rename a few fields (`from` is `_from`) and hold Dates; the serializer
// converts between them and the JSON the API server speaks. It has no public entry point, so it is
// imported from the package's file, as the client's own YAML helpers use it.
import { ObjectSerializer } from "@kubernetes/client-node/dist/gen/models/ObjectSerializer.js";

/** A client model object as the API server's JSON (field names as on the wire, Dates as RFC 3339). */
export function toWire(value: unknown, type: string): Record<string, unknown> {
  const serialized: unknown = ObjectSerializer.serialize(value, type, "");
  return JSON.parse(JSON.stringify(serialized)) as Record<string, unknown>;
}

/** The API server's JSON as a client model object of `type`. */
export function fromWire<T>(json: unknown, type: string): T {
  const deserialized: unknown = ObjectSerializer.deserialize(json, type, "");
  return deserialized as T;
}
