/**
 * An instance's log (its latest attempt), read while it is written: every second the bytes after what is
 * shown are fetched and appended; with Follow on, the view stays at the end. Download saves what is shown.
 */
import type { ShoalClient } from '@shoal/sdk';
import { useEffect, useRef, useState } from 'react';
import { useI18n } from '../i18n.js';
import { ErrorBox } from '../ui.js';

type Stream = 'stdout' | 'stderr';

export function LogView(props: {
  client: ShoalClient;
  jobId: string;
  taskName: string;
  instanceId: number;
  live: boolean;
}) {
  const { client, jobId, taskName, instanceId, live } = props;
  const { t } = useI18n();
  const [stream, setStream] = useState<Stream>('stdout');
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [follow, setFollow] = useState(true);
  const offset = useRef(0);
  const view = useRef<HTMLPreElement>(null);

  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    offset.current = 0;
    setText('');
    setError(undefined);
    const encoder = new TextEncoder();
    const read = async () => {
      try {
        const chunk = await client.readLog(jobId, taskName, instanceId, stream, { offset: offset.current });
        if (!alive) return;
        if (chunk) {
          offset.current += encoder.encode(chunk).length;
          setText((before) => before + chunk);
        }
        setError(undefined);
      } catch (err) {
        // No log yet (the attempt has not started): not an error worth showing while it runs.
        if (alive && (err as { status?: number }).status !== 404) setError(err);
      }
      if (alive && live) timer = setTimeout(read, 1000);
    };
    void read();
    return () => {
      alive = false;
      if (timer) clearTimeout(timer);
    };
  }, [client, jobId, taskName, instanceId, stream, live]);

  useEffect(() => {
    if (follow && view.current) view.current.scrollTop = view.current.scrollHeight;
  }, [text, follow]);

  const download = () => {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${stream}.${jobId}.${taskName}.${instanceId}`;
    a.click();
    URL.revokeObjectURL(url);
  };

  return (
    <div className="log" data-testid="log">
      <div className="tools">
        <div role="tablist">
          {(['stdout', 'stderr'] as const).map((s) => (
            <button
              key={s}
              type="button"
              role="tab"
              aria-selected={stream === s}
              onClick={() => setStream(s)}
            >
              {t(s)}
            </button>
          ))}
        </div>
        <label>
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />{' '}
          {t('follow')}
        </label>
        <button type="button" onClick={download} disabled={!text}>
          {t('download')}
        </button>
      </div>
      <ErrorBox error={error} />
      <pre ref={view} className="log-text" data-testid="log-text">
        {text || <span className="muted">{t('noLog')}</span>}
      </pre>
    </div>
  );
}
