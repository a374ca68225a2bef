import { type DefinedEvent, type DefinedEventLookup, parsePropCondition } from '@weft/segments';
import type { Definition, DefinitionStore } from '../definitions/store.js';

/**
 * A defined event as segment definitions count it: its event, with its filters validated as
 * segment filters. Throws WeftError('invalid') at `path` for a filter segments cannot use
 * (the definitions route checks this before storing one).
 */
export function definedEvent(def: Pick<Definition, 'event' | 'where'>, path = 'where'): DefinedEvent {
  return { event: def.event, where: def.where.map((w, i) => parsePropCondition(w, `${path}[${i}]`)) };
}

/** The defined events of one project, read when asked so edits apply to the next compile. */
export function definedEvents(store: DefinitionStore | undefined, project: string): DefinedEventLookup {
  return (name) => {
    const def = store?.get(project, name);
    return def && definedEvent(def);
  };
}
