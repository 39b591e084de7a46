/** Sign in with an access key; the key is checked against the API before it is kept. */
import { useState } from 'react';
import { useI18n } from '../i18n.js';
import { clientFor, type Session } from '../session.js';
import { ErrorBox } from '../ui.js';

export function SignInPage({ onSignIn }: { onSignIn: (s: Session) => void }) {
  const { t } = useI18n();
  const [accessKeyId, setId] = useState('');
  const [accessKeySecret, setSecret] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const signIn = async () => {
    setBusy(true);
    setError(undefined);
    const session = { accessKeyId: accessKeyId.trim(), accessKeySecret: accessKeySecret.trim() };
    try {
      await clientFor(session).listJobs({ maxItemCount: 1 });
      onSignIn(session);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="signin">
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void signIn();
        }}
      >
        <h1>{t('signInTitle')}</h1>
        <p className="muted">{t('signInHint')}</p>
        <label>
          {t('accessKeyId')}
          <input autoFocus value={accessKeyId} onChange={(e) => setId(e.target.value)} name="accessKeyId" />
        </label>
        <label>
          {t('accessKeySecret')}
          <input
            type="password"
            value={accessKeySecret}
            onChange={(e) => setSecret(e.target.value)}
            name="accessKeySecret"
          />
        </label>
        <ErrorBox error={error} />
        <button type="submit" className="primary" disabled={busy || !accessKeyId || !accessKeySecret}>
          {t('signIn')}
        </button>
      </form>
    </main>
  );
}
