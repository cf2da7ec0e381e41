import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApolloProvider } from '@apollo/client/react';
import { createApollo, type Credentials, type LinkState, type Transport } from './apollo';
import { Board } from './Board';
import { ConnectionPill } from './ConnectionPill';
import { AddActivities, SecretForm } from './Forms';
import { currentSelection, hiddenIds, selectionHref, setHidden, showSelection } from './location';
import { adoptJwtFromFragment, storeSecret, storedSecret } from './secrets';
import { addIds, clearSelection, removeId, watchedView, type Filter, type Selection, type View } from './view';

interface AppConfig {
  authMode: 'passthrough' | 'jwt' | 'open';
  demo?: View;
}

/** How often the board asks for the simulator's newest demo uploads while it shows the demo. */
const DEMO_REFRESH_MS = 5000;

export function App() {
  const [config, setConfig] = useState<AppConfig | undefined>();
  const [selection, setSelection] = useState<Selection>(currentSelection);
  // Demo ids the user stopped watching (localStorage): bumped to re-read them.
  const [hiddenVersion, setHiddenVersion] = useState(0);
  // A JWT handed over as #jwt=… was moved into sessionStorage before the first render (main.tsx).
  const [secret, setSecret] = useState<string>(() => storedSecret(undefined));
  const [linkState, setLinkState] = useState<LinkState>('connecting');
  const [transport, setTransport] = useState<Transport>('websocket');
  const [wasDisconnected, setWasDisconnected] = useState(false);
  const [reconnects, setReconnects] = useState(0);
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
    const onPop = () => setSelection(currentSelection());
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

  // The simulator keeps starting demo uploads: while the demo is watched, pick up new ones.
  const isDemo = selection.withDemo && config?.demo !== undefined;
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
    }, DEMO_REFRESH_MS);
    return () => clearInterval(timer);
  }, [isDemo]);

  const credentials = (): Credentials =>
    config?.authMode === 'passthrough' && secret
      ? { kind: 'cleartax', token: secret }
      : config?.authMode === 'jwt' && secret
        ? { kind: 'jwt', jwt: secret }
        : { kind: 'none' };
  const client = useMemo(() => {
    if (!config) return undefined;
    let hasDropped = false;
    let wasOver: Transport = 'websocket';
    let hasSwitched = false;
    return createApollo(credentials, (state, over) => {
      setLinkState(state);
      setTransport(over);
      if (over !== wasOver) hasSwitched = true;
      wasOver = over;
      if (state === 'disconnected') {
        hasDropped = true;
        setWasDisconnected(true);
      }
      if (state === 'idle') setWasDisconnected(false);
      // Back after a drop, or live over the other transport: what changed meanwhile is read again.
      if (state === 'connected' && (hasDropped || hasSwitched)) {
        hasDropped = false;
        hasSwitched = false;
        setReconnects((count) => count + 1);
      }
    });
    // A new client per mode and secret: credentials are part of the connection.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [config?.authMode, secret]);

  // A demo with no uploads (the simulator seeds none) is no demo: nothing to show, no entity to suggest.
  const demo = config?.demo?.activityIds.length ? config.demo : undefined;
  const entity = selection.taxableEntityId ?? (selection.withDemo ? demo?.taxableEntityId : undefined);
  // hiddenVersion: re-read localStorage after a row is removed.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const hidden = useMemo(() => hiddenIds(entity), [entity, hiddenVersion]);
  const view = useMemo(() => watchedView(selection, demo, hidden), [selection, demo, hidden]);
  const needsSecret = config && config.authMode !== 'open' && !secret;
  const isWatching = view !== undefined && !needsSecret;

  const select = useCallback((next: Selection, how: 'push' | 'replace') => {
    showSelection(next, how);
    setSelection(next);
  }, []);
  const onRemove = useCallback(
    (activityId: string) => {
      if (entity && demo?.activityIds.includes(activityId)) {
        setHidden(entity, activityId, true);
        setHiddenVersion((version) => version + 1);
      }
      select(removeId(selection, activityId), 'replace');
    },
    [entity, demo, selection, select],
  );

  return (
    <div className="page">
      <header className="top">
        <h1>Upload status board</h1>
        <ConnectionPill
          isWatching={isWatching}
          state={linkState}
          transport={transport}
          wasDisconnected={wasDisconnected}
          isUpstreamDown={isUpstreamDown}
        />
      </header>
      <main>
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
          entity={entity}
          onAdd={(taxableEntityId, activityIds) => {
            for (const id of activityIds) setHidden(taxableEntityId, id, false);
            setHiddenVersion((version) => version + 1);
            select(addIds(selection, taxableEntityId, activityIds, demo), 'push');
          }}
        />
        {!config && <p className="note">Loading…</p>}
        {client && view && !needsSecret && (
          <ApolloProvider client={client}>
            <Board
              view={view}
              filter={selection.filter}
              onFilter={(filter: Filter) => select({ ...selection, filter }, 'replace')}
              onRemove={onRemove}
              onClear={() => select(clearSelection(selection), 'push')}
              href={selectionHref(selection)}
              reconnects={reconnects}
              onUpstreamDown={setIsUpstreamDown}
            />
          </ApolloProvider>
        )}
        {config && !view && (
          <p className="note" data-testid="nothing-watched">
            Nothing is watched. Paste a taxable entity id and activity ids above to watch them live
            {demo ? (
              <>
                , or{' '}
                <a href={selectionHref({ ...clearSelection(selection), activityIds: [], withDemo: true })}>
                  watch the demo uploads
                </a>
              </>
            ) : null}
            .
          </p>
        )}
      </main>
    </div>
  );
}
