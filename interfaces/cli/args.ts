/** A command's arguments after the command name. */
export interface CommandArgs {
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
}
