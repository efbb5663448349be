/** What the lookup reads of a pod template's containers: env values and args (API or wire form). */
interface ContainerLike {
  env?: Array<{ name: string; value?: string | undefined }> | undefined;
  args?: string[] | undefined;
  command?: string[] | undefined;
}

/** Env var names that carry a Kafka consumer group id (KAFKA_GROUP_ID, CONSUMER_GROUP, SPRING_KAFKA_CONSUMER_GROUP_ID…) or the queue a worker consumes (AMQP_QUEUE, RABBITMQ_QUEUE_NAME…). */
const GROUP_ENV = /(^|_)(GROUP_ID|GROUPID|CONSUMER_GROUP|GROUP|QUEUE|QUEUE_NAME)$/i;
/** Flags and properties that carry it on a command line (--group=x, --group-id x, group.id=x, --queue x). */
const GROUP_FLAGS = ["--group", "--group-id", "--consumer-group", "group.id", "-Dgroup.id", "--queue", "--queue-name"];

/**
 * Whether a pod template's containers are configured to read Kafka consumer group `group` (or the
 * message queue of that name): an env var named like a group id or a queue whose literal value it
 * is, or a `--group`/`group.id`/`--queue` argument.
 * Only literal configuration counts (a value from a ConfigMap or Secret is not read here).
 */
export function readsConsumerGroup(containers: ContainerLike[] | undefined, group: string): boolean {
  for (const c of containers ?? []) {
    if ((c.env ?? []).some((e) => GROUP_ENV.test(e.name) && e.value === group)) return true;
    const words = [...(c.command ?? []), ...(c.args ?? [])];
    for (let i = 0; i < words.length; i++) {
      const word = words[i] ?? "";
      for (const flag of GROUP_FLAGS) {
        if (word === `${flag}=${group}`) return true;
        if (word === flag && words[i + 1] === group) return true;
      }
    }
  }
  return false;
}
