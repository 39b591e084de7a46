/** The console's frame: signed in or not, the navigation, the language switch, and the page of the route. */
import { useMemo, useState } from 'react';
import { useI18n } from './i18n.js';
import { ClusterPage, ClustersPage } from './pages/clusters.js';
import { EventsPage, ImagesPage, QuotasPage, TypesPage } from './pages/catalog.js';
import { JobPage } from './pages/job.js';
import { JobsPage } from './pages/jobs.js';
import { SignInPage } from './pages/signin.js';
import { SubmitPage } from './pages/submit.js';
import { TaskPage } from './pages/task.js';
import { go, href, useRoute, type Route } from './route.js';
import { clientFor, loadSession, saveSession, sessionFromLink, type Session } from './session.js';

function initialSession(): Session | undefined {
  const linked = sessionFromLink(window.location.hash);
  if (linked) {
    saveSession(linked);
    // The secret leaves the address bar (and the history) at once.
    window.history.replaceState(null, '', `${window.location.pathname}#/jobs`);
    return linked;
  }
  return loadSession();
}

const NAV: [Route['page'], 'jobs' | 'submit' | 'clusters' | 'images' | 'types' | 'quotas' | 'events'][] = [
  ['jobs', 'jobs'],
  ['submit', 'submit'],
  ['clusters', 'clusters'],
  ['images', 'images'],
  ['types', 'types'],
  ['quotas', 'quotas'],
  ['events', 'events'],
];

export function App() {
  const { t, lang, setLang } = useI18n();
  const [session, setSession] = useState<Session | undefined>(initialSession);
  const route = useRoute();
  const client = useMemo(() => (session ? clientFor(session) : undefined), [session]);
  if (!session || !client)
    return (
      <SignInPage
        onSignIn={(s) => {
          saveSession(s);
          setSession(s);
          go({ page: 'jobs' });
        }}
      />
    );
  const active =
    route.page === 'job' || route.page === 'task'
      ? 'jobs'
      : route.page === 'cluster'
        ? 'clusters'
        : route.page;
  return (
    <div className="app">
      <nav className="top">
        <a className="brand" href="#/jobs">
          {t('appName')}
        </a>
        {NAV.map(([page, label]) => (
          <a
            key={page}
            href={page === 'submit' ? href({ page: 'submit', tab: 'form' }) : `#/${page}`}
            aria-current={active === page ? 'page' : undefined}
          >
            {t(label)}
          </a>
        ))}
        <span className="spacer" />
        <span className="muted id">{session.accessKeyId}</span>
        <button type="button" className="link" onClick={() => setLang(lang === 'en' ? 'zh' : 'en')}>
          {t('language')}
        </button>
        <button
          type="button"
          className="link"
          onClick={() => {
            saveSession(undefined);
            setSession(undefined);
          }}
        >
          {t('signOut')}
        </button>
      </nav>
      <main className="content">
        {route.page === 'jobs' && <JobsPage client={client} />}
        {route.page === 'signin' && <JobsPage client={client} />}
        {route.page === 'job' && <JobPage client={client} jobId={route.jobId} />}
        {route.page === 'task' && (
          <TaskPage
            client={client}
            jobId={route.jobId}
            taskName={route.taskName}
            {...(route.instanceId !== undefined ? { instanceId: route.instanceId } : {})}
          />
        )}
        {route.page === 'submit' && <SubmitPage client={client} tab={route.tab} />}
        {route.page === 'clusters' && <ClustersPage client={client} />}
        {route.page === 'cluster' && <ClusterPage client={client} clusterId={route.clusterId} />}
        {route.page === 'images' && <ImagesPage client={client} />}
        {route.page === 'types' && <TypesPage client={client} />}
        {route.page === 'quotas' && <QuotasPage client={client} />}
        {route.page === 'events' && <EventsPage client={client} />}
      </main>
    </div>
  );
}
