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

export function listParams(query: Query, defaultLimit: number, maxLimit: number): ListParams {
  const rawLimit = one(query, 'MaxItemCount');
  let limit = defaultLimit;
  if (rawLimit !== undefined && rawLimit !== '') {
    if (!/^\d+$/.test(rawLimit)) {
      throw new ShoalError(
        'InvalidMaxItemCount',
        `Specified parameter MaxItemCount is not valid. Its type must be integer, got ${JSON.stringify(rawLimit)}.`,
        'MaxItemCount',
      );
    }
    const n = Number(rawLimit);
    if (n > maxLimit) {
      throw new ShoalError(
        'InvalidMaxItemCount',
        `Specified parameter MaxItemCount is not valid. It must be in [0, ${maxLimit}], got ${n}.`,
        'MaxItemCount',
      );
    }
    if (n > 0) limit = n;
  }
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
