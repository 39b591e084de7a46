/** Submitting: a form for one task, a JSON editor whose errors point at their field, and the designer. */
import type { ShoalClient } from '@shoal/sdk';
import { useRef, useState } from 'react';
import { fieldOf, fieldRange, jobDescription, newTask, type TaskDraft } from '../description.js';
import { useI18n } from '../i18n.js';
import { go, href } from '../route.js';
import { ErrorBox } from '../ui.js';
import { Designer } from './designer.js';

type Tab = 'form' | 'json' | 'designer';

export function SubmitPage({ client, tab }: { client: ShoalClient; tab: Tab }) {
  const { t } = useI18n();
  const tabs: [Tab, string][] = [
    ['form', t('formTab')],
    ['json', t('jsonTab')],
    ['designer', t('designerTab')],
  ];
  const submit = async (description: unknown) => {
    const { Id } = await client.createJob(description as Parameters<ShoalClient['createJob']>[0]);
    go({ page: 'job', jobId: Id });
  };
  return (
    <section>
      <header className="page-head">
        <h1>{t('submit')}</h1>
        <nav className="tabs" role="tablist">
          {tabs.map(([id, label]) => (
            <a key={id} role="tab" aria-selected={tab === id} href={href({ page: 'submit', tab: id })}>
              {label}
            </a>
          ))}
        </nav>
      </header>
      {tab === 'form' && <SingleTaskForm submit={submit} />}
      {tab === 'json' && <JsonEditor submit={submit} />}
      {tab === 'designer' && <Designer submit={submit} />}
    </section>
  );
}

export function TaskFields({ task, onChange }: { task: TaskDraft; onChange: (task: TaskDraft) => void }) {
  const { t } = useI18n();
  const num = (v: string) => (v === '' ? 0 : Number(v));
  return (
    <>
      <label>
        {t('commandLine')}
        <input
          value={task.commandLine}
          onChange={(e) => onChange({ ...task, commandLine: e.target.value })}
        />
      </label>
      <label>
        {t('instanceCount')}
        <input
          type="number"
          min={1}
          value={task.instanceCount}
          onChange={(e) => onChange({ ...task, instanceCount: num(e.target.value) })}
        />
      </label>
      <label>
        {t('packagePath')}
        <input
          value={task.packagePath}
          onChange={(e) => onChange({ ...task, packagePath: e.target.value })}
        />
      </label>
      <label>
        {t('timeout')}
        <input
          type="number"
          min={1}
          value={task.timeout}
          onChange={(e) => onChange({ ...task, timeout: num(e.target.value) })}
        />
      </label>
      <label>
        {t('maxRetry')}
        <input
          type="number"
          min={0}
          value={task.maxRetryCount}
          onChange={(e) => onChange({ ...task, maxRetryCount: num(e.target.value) })}
        />
      </label>
    </>
  );
}

function SingleTaskForm({ submit }: { submit: (d: unknown) => Promise<void> }) {
  const { t } = useI18n();
  const [name, setName] = useState('my-job');
  const [task, setTask] = useState<TaskDraft>(newTask('task'));
  const [error, setError] = useState<unknown>(undefined);
  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault();
        setError(undefined);
        submit(jobDescription(name, [task])).catch(setError);
      }}
    >
      <label>
        {t('jobName')}
        <input value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <TaskFields task={task} onChange={setTask} />
      <ErrorBox error={error} />
      <button type="submit" className="primary">
        {t('submitJob')}
      </button>
    </form>
  );
}

function JsonEditor({ submit }: { submit: (d: unknown) => Promise<void> }) {
  const { t } = useI18n();
  const [text, setText] = useState(() =>
    JSON.stringify(jobDescription('my-job', [newTask('task')]), null, 2),
  );
  const [error, setError] = useState<{ message: string; code?: string; field?: string } | undefined>();
  const area = useRef<HTMLTextAreaElement>(null);
  const point = (start: number, end: number) => {
    area.current?.focus();
    area.current?.setSelectionRange(start, end);
  };
  const send = async () => {
    setError(undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      const message = (err as Error).message;
      setError({ message, code: 'InvalidJSON' });
      const at = /position (\d+)/.exec(message);
      if (at) point(Number(at[1]), Number(at[1]) + 1);
      return;
    }
    try {
      await submit(parsed);
    } catch (err) {
      const e = err as { message: string; code?: string };
      const field = fieldOf(e.message);
      setError({ message: e.message, ...(e.code ? { code: e.code } : {}), ...(field ? { field } : {}) });
      const range = field ? fieldRange(text, field) : undefined;
      if (range) point(range.start, range.end);
    }
  };
  return (
    <div className="json-editor">
      <textarea
        ref={area}
        aria-label={t('jsonTab')}
        spellCheck={false}
        value={text}
        onChange={(e) => setText(e.target.value)}
        aria-invalid={error ? true : undefined}
      />
      {error && (
        <div className="error" role="alert" data-field={error.field ?? ''}>
          {error.field && <code className="field">{error.field}</code>} <strong>{error.code}</strong>{' '}
          {error.message}
          <div className="muted">{t('whatToDo')}</div>
        </div>
      )}
      <button type="button" className="primary" onClick={() => void send()}>
        {t('submitJob')}
      </button>
    </div>
  );
}
