import type { Properties, WeftEvent } from '@weft/core';
import { compilePlan, type DefinedEventLookup, parseCondition } from '@weft/segments';
import { EventEncoder, EventRecord } from '../../src/bus/event-codec.js';
import { applyRecord, setApplyObserver } from '../../src/index/apply-record.js';
import { eventIdHash } from '../../src/index/dedup-table.js';
import { ProjectIndex } from '../../src/index/project-index.js';
import { type Clock, ProjectSegments } from '../../src/segments/project-segments.js';
import type { SegmentChange, ShardSegmentDef } from '../../src/segments/protocol.js';
import { type TagChange, tagEventProperties } from '../../src/segments/tag-events.js';

export const PROJECT = 'p';
export const DAY = 86_400_000;
export const KEY = Buffer.alloc(32, 7);

export class TestClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
}

export interface Harness {
  index: ProjectIndex;
  segments: ProjectSegments;
  clock: TestClock;
  changes: SegmentChange[];
  /** Applies events through the real record path (encoder, applyRecord, observer). */
  send(events: Array<Partial<WeftEvent> & { event: string; distinct_id: string }>): void;
  tag(distinctId: string, change: TagChange, time?: number): void;
  define(id: string, definition: unknown, mode?: 'realtime' | 'scheduled'): void;
}

let seq = 0;

/** A project's segment state on a controllable clock; `events` are its defined events. */
export function harness(now: number, events?: DefinedEventLookup): Harness {
  const index = new ProjectIndex(PROJECT);
  const clock = new TestClock(now);
  const changes: SegmentChange[] = [];
  const segments = new ProjectSegments(
    index,
    clock,
    () => KEY,
    (c) => changes.push(c),
  );
  const encoder = new EventEncoder();
  const send: Harness['send'] = (events) => {
    const full: WeftEvent[] = events.map((e) => ({
      event_id: `e${seq++}`,
      project: PROJECT,
      time: clock.t,
      received_at: clock.t,
      properties: {} as Properties,
      ...e,
    }));
    const hashes = new Uint32Array(full.length * 2);
    full.forEach((e, i) => {
      const [hi, lo] = eventIdHash(PROJECT, e.event_id);
      hashes[i * 2] = hi;
      hashes[i * 2 + 1] = lo;
    });
    setApplyObserver({ applied: (ix, user, ev, p) => ix === index && segments.afterEvent(user, ev, p) });
    try {
      applyRecord(index, new EventRecord(encoder.encode(PROJECT, full, hashes)));
    } finally {
      setApplyObserver(undefined);
    }
  };
  return {
    index,
    segments,
    clock,
    changes,
    send,
    tag(distinctId, change, time = clock.t) {
      send([
        {
          event: '$tag',
          distinct_id: distinctId,
          time,
          properties: tagEventProperties(KEY, distinctId, time, change, 'api'),
        },
      ]);
    },
    define(id, definition, mode = 'realtime') {
      const plan = compilePlan(parseCondition(definition), { events });
      const def: ShardSegmentDef = { id, mode, plan };
      segments.define([def]);
    },
  };
}
