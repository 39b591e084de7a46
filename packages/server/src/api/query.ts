/** Parsing of list query parameters (Marker, MaxItemCount, State) with the spec's error codes. */
import type { State } from '@shoal/core';
import { invalidParameter, isState, ShoalError, STATES } from '@shoal/core';

export type Query = Record<string, string | string[] | undefined>;

export function one(query: Query, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

export interface ListParams {
  readonly marker: string | undefined;
  readonly limit: number;
  readonly states: State[] | undefined;
}

/**
 * The page size of every list route, checked the same way everywhere: a whole number from 1 to the route's
 * maximum; absent, empty or 0 means the route's default (as the original clients send 0 for "default").
 */
export function maxItemCount(query: Query, defaultLimit: number, maxLimit: number): number {
  const raw = one(query, 'MaxItemCount');
  if (raw === undefined || raw === '') return defaultLimit;
  if (!/^\d+$/.test(raw) || Number(raw) > maxLimit) {
    throw new ShoalError(
      'InvalidMaxItemCount',
      `Specified parameter MaxItemCount is not valid: it must be a whole number from 1 to ${maxLimit} (0 or empty for the default, ${defaultLimit}), got ${JSON.stringify(raw)}.`,
      'MaxItemCount',
    );
  }
  return Number(raw) || defaultLimit;
}

export function listParams(query: Query, defaultLimit: number, maxLimit: number): ListParams {
  const limit = maxItemCount(query, defaultLimit, maxLimit);
  const rawStates = query.State;
  let states: State[] | undefined;
  if (rawStates !== undefined && rawStates !== '') {
    const parts = (Array.isArray(rawStates) ? rawStates : [rawStates])
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
    states = [];
    for (const part of parts) {
      // Accept any letter case (`running`), answer in the spec's spelling.
      const state = STATES.find((s) => s.toLowerCase() === part.toLowerCase());
      if (!state || !isState(state))
        throw invalidParameter('State', part, `must be one of ${STATES.join(', ')}`);
      states.push(state);
    }
  }
  const marker = one(query, 'Marker');
  return { marker: marker === '' ? undefined : marker, limit, states };
}
