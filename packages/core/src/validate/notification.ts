/**
 * Notification.Topic (spec §5.7): where job events are published. Clients send an empty Topic when
 * the user asked for nothing (the CLI sends `{Topic: {}}`, the Python SDK its all-empty defaults), and
 * that must mean "no notification", not a subscription with no endpoint.
 */
import { invalidJob } from '../errors.js';
import type { NotificationSpec } from '../job-spec.js';
import { get, indexPath, isAbsent, optionalObject, optionalString } from './fields.js';
import { JOB_EVENTS } from './limits.js';

function readEvents(value: unknown, path: string): string[] {
  if (isAbsent(value)) return [];
  if (!Array.isArray(value)) throw invalidJob(path, value, 'must be a list of event names');
  const events: string[] = [];
  value.forEach((event: unknown, i) => {
    if (typeof event !== 'string' || !JOB_EVENTS.includes(event)) {
      throw invalidJob(indexPath(path, i), event, `unknown event; known events are ${JOB_EVENTS.join(', ')}`);
    }
    if (!events.includes(event)) events.push(event);
  });
  return events;
}

export function readNotification(value: unknown): NotificationSpec | null {
  const notification = optionalObject(value, 'Notification');
  if (!notification) return null;
  const topic = optionalObject(get(notification, 'Topic'), 'Notification.Topic');
  if (!topic) return null;
  const topicName = optionalString(get(topic, 'Name'), 'Notification.Topic.Name');
  const endpoint = optionalString(get(topic, 'Endpoint'), 'Notification.Topic.Endpoint');
  const events = readEvents(get(topic, 'Events'), 'Notification.Topic.Events');
  if (topicName === '' && endpoint === '' && events.length === 0) return null;
  return { topicName, endpoint, events };
}
