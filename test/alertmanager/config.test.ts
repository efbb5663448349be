import { describe, expect, it } from "vitest";
import { describeAlertmanager, InvalidConfigError, loadConfig } from "../../app/config.js";

const BASE = { SUTURE_HOME: "/tmp/suture-am-config" };

describe("Alertmanager write-back settings", () => {
  it("Given no Alertmanager variables When config loads Then there is no write-back and no public URL", () => {
    const config = loadConfig(BASE);
    expect(config.alertmanager).toBeUndefined();
    expect(config.publicUrl).toBeUndefined();
  });

  it("Given only ALERTMANAGER_URL When config loads Then silencing while settling is on, without credentials", () => {
    expect(loadConfig({ ...BASE, ALERTMANAGER_URL: "http://alertmanager.monitoring:9093" }).alertmanager).toEqual({ url: "http://alertmanager.monitoring:9093", silenceWhileSettling: true });
  });

  it("Given a bearer token and SUTURE_SILENCE_WHILE_SETTLING=false When config loads Then both are taken", () => {
    const config = loadConfig({ ...BASE, ALERTMANAGER_URL: "https://am.example", ALERTMANAGER_BEARER_TOKEN: "tok-123", SUTURE_SILENCE_WHILE_SETTLING: "false" });
    expect(config.alertmanager).toEqual({ url: "https://am.example", auth: { type: "bearer", token: "tok-123" }, silenceWhileSettling: false });
  });

  it("Given a user and password and a public URL with a trailing slash When config loads Then basic auth is used and the URL is trimmed", () => {
    const config = loadConfig({ ...BASE, ALERTMANAGER_URL: "https://am.example", ALERTMANAGER_USERNAME: "suture", ALERTMANAGER_PASSWORD: "pw", SUTURE_PUBLIC_URL: "https://suture.example/" });
    expect(config.alertmanager?.auth).toEqual({ type: "basic", username: "suture", password: "pw" });
    expect(config.publicUrl).toBe("https://suture.example");
  });

  it("Given each kind of setting When described for the start-up line Then the URL and kind of auth show and no credential does", () => {
    expect(describeAlertmanager(loadConfig(BASE))).toMatch(/^alertmanager: none \(ALERTMANAGER_URL unset/);
    const basic = describeAlertmanager(loadConfig({ ...BASE, ALERTMANAGER_URL: "https://am.example", ALERTMANAGER_USERNAME: "suture", ALERTMANAGER_PASSWORD: "topsecretpw" }));
    expect(basic).toBe("alertmanager: https://am.example (basic auth as suture); silences alerts while actions settle");
    const bearer = describeAlertmanager(loadConfig({ ...BASE, ALERTMANAGER_URL: "https://am.example", ALERTMANAGER_BEARER_TOKEN: "topsecretpw", SUTURE_SILENCE_WHILE_SETTLING: "false" }));
    expect(bearer).toBe("alertmanager: https://am.example (bearer token); no silences (SUTURE_SILENCE_WHILE_SETTLING=false)");
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ["a non-http URL", { ALERTMANAGER_URL: "ftp://am.example" }, /ALERTMANAGER_URL: expected an http\(s\) URL/],
    ["a URL with credentials", { ALERTMANAGER_URL: "https://u:topsecretpw@am.example" }, /ALERTMANAGER_URL: expected a URL without credentials/],
    ["a token without a URL", { ALERTMANAGER_BEARER_TOKEN: "topsecretpw" }, /ALERTMANAGER_BEARER_TOKEN set without ALERTMANAGER_URL/],
    ["silencing on without a URL", { SUTURE_SILENCE_WHILE_SETTLING: "true" }, /SUTURE_SILENCE_WHILE_SETTLING=true set without ALERTMANAGER_URL/],
    ["a user without a password", { ALERTMANAGER_URL: "https://am.example", ALERTMANAGER_USERNAME: "suture" }, /ALERTMANAGER_PASSWORD: expected it too/],
    ["both kinds of credential", { ALERTMANAGER_URL: "https://am.example", ALERTMANAGER_BEARER_TOKEN: "topsecretpw", ALERTMANAGER_USERNAME: "u", ALERTMANAGER_PASSWORD: "topsecretpw" }, /both set/],
    ["a switch that is not a boolean", { ALERTMANAGER_URL: "https://am.example", SUTURE_SILENCE_WHILE_SETTLING: "yes" }, /SUTURE_SILENCE_WHILE_SETTLING: expected true or false/],
    ["a public URL that is not http", { SUTURE_PUBLIC_URL: "mailto:ops@example.com" }, /SUTURE_PUBLIC_URL: expected an http\(s\) URL/],
  ])("Given %s When config loads Then it is refused naming the variable and never the secret", (_what, env, message) => {
    expect(() => loadConfig({ ...BASE, ...env })).toThrow(InvalidConfigError);
    expect(() => loadConfig({ ...BASE, ...env })).toThrow(message);
    try {
      loadConfig({ ...BASE, ...env });
    } catch (error) {
      expect((error as Error).message).not.toContain("topsecretpw");
    }
  });
});
