/** `prosa sagas ls` as text: one line an instance, with its pending timeouts. */
import type { SagaInstanceView } from '../../internal.js';

export function formatSagaInstances(saga: string, list: readonly SagaInstanceView[]): string {
  if (list.length === 0) return `no live instances of ${saga}\n`;
  return list
    .map((i) => {
      const timeouts = i.timeouts.map((t) => `${t.name} due ${t.dueAt}`).join(', ');
      return `${i.instance}  ${JSON.stringify(i.state)}${timeouts ? `  (${timeouts})` : ''}\n`;
    })
    .join('');
}
