import { useEffect, useMemo, useRef, useState } from 'react';
import { ApolloProvider } from '@apollo/client/react';
import { createApollo, type Credentials, type LinkState } from './apollo';
import { Board } from './Board';
import {
  adoptJwtFromFragment,
  parseIds,
  isUuid,
  storeSecret,
  storedSecret,
  viewFromUrl,
  viewToUrl,
  type View,
} from './view';

interface AppConfig {
  authMode: 'passthrough' | 'jwt' | 'open';
  demo?: View;
}

export function App() {
  const [config, setConfig] = useState<AppConfig | undefined>();
  const [view, setView] = useState<View | undefined>(viewFromUrl);
  // A JWT handed over as #jwt=… was moved into sessionStorage before the first render (main.tsx).
  const [secret, setSecret] = useState<string>(() => storedSecret(undefined));
  const [linkState, setLinkState] = useState<LinkState>('connecting');
  const [wasDisconnected, setWasDisconnected] = useState(false);
  const [isUpstreamDown, setIsUpstreamDown] = useState(false);
  const authMode = useRef<AppConfig['authMode'] | undefined>(undefined);

  useEffect(() => {
    const adopt = (next: AppConfig) => {
      authMode.current = next.authMode;
      setConfig(next);
      setSecret(storedSecret(next.authMode));
    };
    void fetch('/app-config.json')
      .then((response) => response.json() as Promise<AppConfig>)
      .then(adopt, () => adopt({ authMode: 'passthrough' }));
    const onPop = () => setView(viewFromUrl());
    // A new #jwt=… in this tab (an identity provider's redirect): take it, and off the address bar.
    const onHash = () => {
      if (adoptJwtFromFragment()) setSecret(storedSecret(authMode.current));
    };
    window.addEventListener('popstate', onPop);
    window.addEventListener('hashchange', onHash);
    return () => {
      window.removeEventListener('popstate', onPop);
      window.removeEventListener('hashchange', onHash);
    };
  }, []);

  // The simulator keeps starting demo uploads: while the demo is shown, pick up new ones.
  const isDemo = !view && config?.demo !== undefined;
  useEffect(() => {
    if (!isDemo) return;
    const timer = setInterval(() => {
      void fetch('/app-config.json')
        .then((response) => response.json() as Promise<AppConfig>)
        .then((next) =>
          setConfig((current) =>
            current && next.demo && next.demo.activityIds.join() !== current.demo?.activityIds.join()
              ? { ...current, demo: next.demo }
              : current,
          ),
        )
        .catch(() => undefined);
    }, 10_000);
    return () => clearInterval(timer);
  }, [isDemo]);

  const credentials = (): Credentials =>
    config?.authMode === 'passthrough' && secret
      ? { kind: 'cleartax', token: secret }
      : config?.authMode === 'jwt' && secret
        ? { kind: 'jwt', jwt: secret }
        : { kind: 'none' };
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
        <ConnectionBanner state={linkState} wasDisconnected={wasDisconnected} isUpstreamDown={isUpstreamDown} />
      </header>
      {config?.authMode === 'passthrough' && (
        <p className="note">
          Passthrough mode reads with your own ClearTax token: for internal tools only. It stays in this tab
          (sessionStorage).
        </p>
      )}
      {config && config.authMode !== 'open' && (
        <SecretForm
          label={config.authMode === 'jwt' ? 'JWT' : 'ClearTax token'}
          value={secret}
          onSave={(value) => {
            storeSecret(config.authMode === 'jwt' ? 'jwt' : 'passthrough', value);
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
          <Board view={shown} onUpstreamDown={setIsUpstreamDown} />
        </ApolloProvider>
      )}
      {config && !shown && <p className="note">Paste a taxable entity id and activity ids above to watch them live.</p>}
    </div>
  );
}

/**
 * One health signal for the whole board. The gateway connection comes first (without it
 * nothing is known about upstream); then upstream: while the gateway says it cannot
 * reach ClearTax (stale subscription events, UPSTREAM_UNAVAILABLE answers), "Live"
 * would be a lie.
 */
function ConnectionBanner({
  state,
  wasDisconnected,
  isUpstreamDown,
}: {
  state: LinkState;
  wasDisconnected: boolean;
  isUpstreamDown: boolean;
}) {
  const isGatewayDown = state === 'disconnected' || (state === 'connecting' && wasDisconnected);
  if (isUpstreamDown && !isGatewayDown)
    return (
      <p className="banner warn" role="status" data-testid="connection-banner" data-state="upstream-down">
        Upstream unreachable: showing the last known state
      </p>
    );
  if (state === 'idle')
    return (
      <p className="banner" data-testid="connection-banner" data-state="idle">
        Up to date: nothing left to watch
      </p>
    );
  if (state === 'connected')
    return (
      <p
        className={`banner ok${wasDisconnected ? ' recovered' : ''}`}
        data-testid="connection-banner"
        data-state="connected"
      >
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
        <input
          value={entity}
          onChange={(event) => setEntity(event.target.value)}
          placeholder="0b8c2a7e-…"
          spellCheck={false}
        />
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
