/** A message for the humans on call. */
export interface Notification {
  incidentId: string;
  status: string;
  title: string;
  reason: string;
  service: string;
}

/** Delivers escalations and resolutions to people. */
export interface Notifier {
  notify(notification: Notification): Promise<void>;
}
