import { incidentLink, silenceFor } from "../environments/alertmanager/silence-request.js";
import { AlertmanagerSilences } from "../environments/alertmanager/silences.js";
import type { Alert } from "../domain/alerts/alert.js";
import type { SettleSilencer, SilenceOutcome } from "../graphs/context.js";
import type { Config } from "./config.js";

/**
 * Alertmanager write-back: while an action settles, the incident's alert is silenced (API v2,
 * every label of the alert matched exactly, a comment linking the incident, ending a minute after
 * the settle deadline); when verify has judged, the silence is expired, whatever the verdict. Alertmanager
 * being down never fails an incident: the outcome says what happened and the node audits it.
 */
export class AlertmanagerSettleSilencer implements SettleSilencer {
  /**
   * The silence outlasts the settle deadline by this much, so verify (which runs just after the
   * deadline) is what lifts it; if Suture dies meanwhile, it still ends on its own shortly after.
   */
  static readonly GRACE_MS = 60_000;

  constructor(
    private readonly silences: AlertmanagerSilences,
    private readonly publicUrl?: string,
  ) {}

  /** The silencer for this configuration: on when `ALERTMANAGER_URL` is set and `SUTURE_SILENCE_WHILE_SETTLING` is not false. */
  static fromConfig(config: Config): AlertmanagerSettleSilencer | undefined {
    const am = config.alertmanager;
    if (am === undefined || !am.silenceWhileSettling) return undefined;
    return new AlertmanagerSettleSilencer(new AlertmanagerSilences({ url: am.url, ...(am.auth !== undefined ? { auth: am.auth } : {}) }), config.publicUrl);
  }

  async silence(input: { incidentId: string; alert: Alert; until: number; now: number }): Promise<SilenceOutcome> {
    // Only an alert Alertmanager sent can be silenced there; PagerDuty and generic alerts have no silence.
    if (input.alert.source !== "alertmanager") return { done: false, detail: `not silenced: the alert came from ${input.alert.source}, not Alertmanager` };
    try {
      const request = silenceFor(input.alert.labels, {
        incidentId: input.incidentId,
        ...(this.publicUrl !== undefined ? { incidentUrl: incidentLink(this.publicUrl, input.incidentId) } : {}),
        endsAt: new Date(input.until + AlertmanagerSettleSilencer.GRACE_MS),
        now: new Date(input.now),
      });
      const id = await this.silences.create(request);
      return { done: true, silenceId: id, detail: `silenced ${input.alert.name} in Alertmanager until ${request.endsAt} (silence ${id})` };
    } catch (error) {
      return { done: false, detail: `could not silence ${input.alert.name} in Alertmanager: ${(error as Error).message}` };
    }
  }

  async expire(silenceId: string): Promise<SilenceOutcome> {
    try {
      const result = await this.silences.expire(silenceId);
      const word = result.outcome === "expired" ? "expired" : result.outcome === "already-expired" ? "was already expired" : "no longer exists";
      return { done: result.outcome === "expired", silenceId, detail: `silence ${silenceId} ${word}` };
    } catch (error) {
      return { done: false, silenceId, detail: `could not expire silence ${silenceId}: ${(error as Error).message}` };
    }
  }
}
