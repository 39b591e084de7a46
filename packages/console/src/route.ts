/**
 * Hash routes (`#/jobs/<id>`): the server serves one page for all of /console, and a fragment keeps
 * sign-in secrets out of every request.
 */
import { useEffect, useState } from 'react';

export type Route =
  | { page: 'jobs' }
  | { page: 'job'; jobId: string }
  | { page: 'task'; jobId: string; taskName: string; instanceId?: number }
  | { page: 'submit'; tab: 'form' | 'json' | 'designer' }
  | { page: 'clusters' }
  | { page: 'cluster'; clusterId: string }
  | { page: 'images' }
  | { page: 'types' }
  | { page: 'quotas' }
  | { page: 'events' }
  | { page: 'signin' };

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  switch (parts[0]) {
    case 'jobs':
      if (parts[1] && parts[2] === 'tasks' && parts[3]) {
        const instance = params.get('instance');
        return {
          page: 'task',
          jobId: parts[1],
          taskName: parts[3],
          ...(instance !== null && /^\d+$/.test(instance) ? { instanceId: Number(instance) } : {}),
        };
      }
      return parts[1] ? { page: 'job', jobId: parts[1] } : { page: 'jobs' };
    case 'submit': {
      const tab = parts[1];
      return { page: 'submit', tab: tab === 'json' || tab === 'designer' ? tab : 'form' };
    }
    case 'clusters':
      return parts[1] ? { page: 'cluster', clusterId: parts[1] } : { page: 'clusters' };
    case 'images':
    case 'types':
    case 'quotas':
    case 'events':
    case 'signin':
      return { page: parts[0] };
    default:
      return { page: 'jobs' };
  }
}

export function href(route: Route): string {
  const e = encodeURIComponent;
  switch (route.page) {
    case 'job':
      return `#/jobs/${e(route.jobId)}`;
    case 'task':
      return `#/jobs/${e(route.jobId)}/tasks/${e(route.taskName)}${route.instanceId !== undefined ? `?instance=${route.instanceId}` : ''}`;
    case 'submit':
      return `#/submit/${route.tab}`;
    case 'cluster':
      return `#/clusters/${e(route.clusterId)}`;
    default:
      return `#/${route.page}`;
  }
}

export function go(route: Route): void {
  window.location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
