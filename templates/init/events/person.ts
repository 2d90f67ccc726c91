// The person domain's events as they sit on the stream: the CIM StoredEvent envelope around one
// variant, `data: {"<EventType>": {...}}`, published on `person.events.<person_id>.<event>`.
// Replace them with your own domain's events.

import { InvalidEventError, type RawEvent, type StoredEvent } from 'prosa';

/** Each event type and its fields. Every event names its person. */
export interface PersonEvents {
  PersonCreated: { person_id: string; given_name: string; family_name: string };
  NameChanged: { person_id: string; given_name: string; family_name: string };
  EmailAdded: { person_id: string; email: string };
  EmailRemoved: { person_id: string; email: string };
  PersonArchived: { person_id: string; reason: string };
}
export type PersonEventType = keyof PersonEvents;

/** A decoded event: `type` names it (XState's event shape), `data` is its variant. */
export type PersonEvent = {
  [T in PersonEventType]: { type: T; timestamp: string; data: PersonEvents[T] };
}[PersonEventType];

/** The last subject token of each event type. */
export const personSubjectTokens: { readonly [T in PersonEventType]: string } = {
  PersonCreated: 'created',
  NameChanged: 'name_changed',
  EmailAdded: 'email_added',
  EmailRemoved: 'email_removed',
  PersonArchived: 'archived',
};

export const personSubject = (type: PersonEventType, personId: string): string =>
  `person.events.${personId}.${personSubjectTokens[type]}`;

const fields: { readonly [T in PersonEventType]: readonly (keyof PersonEvents[T])[] } = {
  PersonCreated: ['person_id', 'given_name', 'family_name'],
  NameChanged: ['person_id', 'given_name', 'family_name'],
  EmailAdded: ['person_id', 'email'],
  EmailRemoved: ['person_id', 'email'],
  PersonArchived: ['person_id', 'reason'],
};

const isPersonEventType = (t: unknown): t is PersonEventType => typeof t === 'string' && t in fields;

/** An envelope as a message: its subject (from the type and the person) and its JSON body. */
export function toMessage<T extends PersonEventType>(envelope: StoredEvent<Record<T, PersonEvents[T]>>) {
  const type = envelope.event_type as T;
  return {
    subject: personSubject(type, envelope.data[type].person_id),
    data: new TextEncoder().encode(JSON.stringify(envelope)),
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes and checks a message; throws InvalidEventError (the event is dead-lettered) saying why. */
export function decodePersonEvent(raw: RawEvent): PersonEvent {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(utf8.decode(raw.data));
  } catch {
    throw new InvalidEventError('body is not UTF-8 JSON; expected a CIM StoredEvent');
  }
  const type = body?.event_type;
  if (!isPersonEventType(type)) {
    throw new InvalidEventError(
      `event_type ${JSON.stringify(type)} is not a person event; expected one of ${Object.keys(fields).join(', ')}`,
    );
  }
  const data = (body.data as Record<string, unknown> | undefined)?.[type] as
    | Record<string, unknown>
    | undefined;
  for (const field of fields[type] as readonly string[]) {
    if (typeof data?.[field] !== 'string' || data[field] === '')
      throw new InvalidEventError(`data.${type}.${field}: expected a non-empty string`);
  }
  if (typeof body.timestamp !== 'string')
    throw new InvalidEventError('timestamp: expected an RFC 3339 string');
  const person = (data as { person_id: string }).person_id;
  if (raw.subject !== personSubject(type, person)) {
    throw new InvalidEventError(
      `subject ${raw.subject} does not match: expected ${personSubject(type, person)}`,
    );
  }
  return { type, timestamp: body.timestamp, data } as PersonEvent;
}
