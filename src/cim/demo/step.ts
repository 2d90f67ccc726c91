import type { InfrastructureEventType, InfrastructurePayloadInput } from '../infrastructure.js';

/** One event of a story before its ids and time are stamped. */
export type Step = {
  [T in InfrastructureEventType]: { type: T; payload: InfrastructurePayloadInput<T> };
}[InfrastructureEventType];

export const step = <T extends InfrastructureEventType>(
  type: T,
  payload: InfrastructurePayloadInput<T>,
): Step => ({ type, payload }) as unknown as Step;
