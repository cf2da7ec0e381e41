import { useEffect, useMemo, useState } from 'react';
import { ApolloProvider } from '@apollo/client/react';
import { createApollo, type Credentials, type LinkState } from './apollo';
import { Board } from './Board';
import { jwtFromFragment, parseIds, isUuid, viewFromUrl, viewToUrl, type View } from './view';

interface AppConfig {
  authMode: 'passthrough' | 'jwt' | 'open';
  demo?: View;
}

const TOKEN_KEY = 'cleartax-token';
const JWT_KEY = 'gateway-jwt';

export function App() {
  const [config, setConfig] = useState<AppConfig | undefined>();
  const [view, setView] = useState<View | undefined>(viewFromUrl);
  const [secret, setSecret] = useState<string>(() => jwtFromFragment() ?? sessionStorage.getItem(JWT_KEY) ?? sessionStorage.getItem(TOKEN_KEY) ?? '');
  const [linkState, setLinkState] = useState<LinkState>('connecting');
  const [wasDisconnected, setWasDisconnected] = useState(false);

  useEffect(() => {
    void fetch('/app-config.json')
      .then((response) => response.json() as Promise<AppConfig>)
      .then(setConfig, () => setConfig({ authMode: 'passthrough' }));
    const onPop = () => setView(viewFromUrl());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  // The simulator keeps starting demo uploads: while the demo is shown, pick up new ones.
  const isDemo = !view && config?.demo !== undefined;
  useEffect(() => {
    if (!isDemo) return;
    const timer = setInterval(() => {
      void fetch('/app-config.json')
        .then((response) => response.json() as Promise<AppConfig>)
        .then((next) =>
          setConfig((current) => (current && next.demo && next.demo.activityIds.join() !== current.demo?.activityIds.join() ? { ...current, demo: next.demo } : current)),
        )
        .catch(() => undefined);
    }, 10_000);
    return () => clearInterval(timer);
  }, [isDemo]);

  const credentials = (): Credentials =>
    config?.authMode === 'passthrough' && secret ? { kind: 'cleartax', token: secret } : config?.authMode === 'jwt' && secret ? { kind: 'jwt', jwt: secret } : { kind: 'none' };
  const client = useMemo(
    () =>
      config &&
      createApollo(credentials, (state) => {
        setLinkState(state);
        if (state === 'disconnected') setWasDisconnected(true);
        if (state === 'idle') setWasDisconnected(false);
      }),
    // A new client per mode and secret: credentials are part of the connection.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [config?.authMode, secret],
  );

  const shown = view ?? config?.demo;
  const needsSecret = config && config.authMode !== 'open' && !secret;

  return (
    <div className="page">
      <header className="top">
        <h1>Upload status board</h1>
        <ConnectionBanner state={linkState} wasDisconnected={wasDisconnected} />
      </header>
      {config?.authMode === 'passthrough' && (
        <p className="note">Passthrough mode reads with your own ClearTax token: for internal tools only. It stays in this tab (sessionStorage).</p>
      )}
      {config && config.authMode !== 'open' && (
        <SecretForm
          label={config.authMode === 'jwt' ? 'JWT' : 'ClearTax token'}
          value={secret}
          onSave={(value) => {
            sessionStorage.setItem(config.authMode === 'jwt' ? JWT_KEY : TOKEN_KEY, value);
            setSecret(value);
          }}
        />
      )}
      <AddActivities
        view={shown}
        onShow={(next) => {
          viewToUrl(next);
          setView(next);
        }}
      />
      {!config && <p className="note">Loading…</p>}
      {client && shown && !needsSecret && (
        <ApolloProvider client={client}>
          <Board view={shown} />
        </ApolloProvider>
      )}
      {config && !shown && <p className="note">Paste a taxable entity id and activity ids above to watch them live.</p>}
    </div>
  );
}

function ConnectionBanner({ state, wasDisconnected }: { state: LinkState; wasDisconnected: boolean }) {
  if (state === 'idle')
    return (
      <p className="banner" data-testid="connection-banner" data-state="idle">
        Up to date: nothing left to watch
      </p>
    );
  if (state === 'connected')
    return (
      <p className={`banner ok${wasDisconnected ? ' recovered' : ''}`} data-testid="connection-banner" data-state="connected">
        {wasDisconnected ? 'Live again: reconnected' : 'Live'}
      </p>
    );
  if (state === 'connecting' && !wasDisconnected)
    return (
      <p className="banner" data-testid="connection-banner" data-state="connecting">
        Connecting…
      </p>
    );
  return (
    <p className="banner down" role="alert" data-testid="connection-banner" data-state="disconnected">
      Live connection lost: reconnecting…
    </p>
  );
}

function SecretForm({ label, value, onSave }: { label: string; value: string; onSave: (value: string) => void }) {
  const [draft, setDraft] = useState(value);
  return (
    <form
      className="secret"
      onSubmit={(event) => {
        event.preventDefault();
        onSave(draft.trim());
      }}
    >
      <label>
        {label}
        <input type="password" value={draft} autoComplete="off" onChange={(event) => setDraft(event.target.value)} />
      </label>
      <button type="submit">Use</button>
    </form>
  );
}

function AddActivities({ view, onShow }: { view: View | undefined; onShow: (view: View) => void }) {
  const [entity, setEntity] = useState(view?.taxableEntityId ?? '');
  const [ids, setIds] = useState('');
  useEffect(() => setEntity((current) => current || view?.taxableEntityId || ''), [view?.taxableEntityId]);
  const parsed = parseIds(ids);
  return (
    <form
      className="add"
      onSubmit={(event) => {
        event.preventDefault();
        if (!isUuid(entity) || parsed.length === 0) return;
        const taxableEntityId = entity.trim().toLowerCase();
        const keep = view && view.taxableEntityId === taxableEntityId ? view.activityIds : [];
        onShow({ taxableEntityId, activityIds: [...new Set([...keep, ...parsed])] });
        setIds('');
      }}
    >
      <label>
        Taxable entity id
        <input value={entity} onChange={(event) => setEntity(event.target.value)} placeholder="0b8c2a7e-…" spellCheck={false} />
      </label>
      <label>
        Activity ids (paste any text containing them)
        <textarea value={ids} onChange={(event) => setIds(event.target.value)} rows={2} spellCheck={false} />
      </label>
      <button type="submit" disabled={!isUuid(entity) || parsed.length === 0}>
        Watch {parsed.length || ''}
      </button>
    </form>
  );
}
