import { useEffect, useId, useState } from 'react';
import { entityIdProblem, idsProblem, parseIdsInput, watchBlocker } from './view';

/** Where a ClearTax token or a JWT is pasted (kept in sessionStorage by the caller). */
export function SecretForm({
  label,
  value,
  onSave,
}: {
  label: string;
  value: string;
  onSave: (value: string) => void;
}) {
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

/**
 * Adds activities: an entity id and any pasted text holding activity ids. What is wrong
 * with either is said next to its field, and why "Watch" cannot be pressed next to it.
 */
export function AddActivities({
  entity: shownEntity,
  onAdd,
}: {
  entity: string | undefined;
  onAdd: (taxableEntityId: string, activityIds: string[]) => void;
}) {
  const [entity, setEntity] = useState(shownEntity ?? '');
  const [ids, setIds] = useState('');
  useEffect(() => setEntity((current) => current || shownEntity || ''), [shownEntity]);
  const parsed = parseIdsInput(ids);
  const entityProblem = entityIdProblem(entity);
  const idProblem = idsProblem(parsed);
  const blocker = watchBlocker(entity, parsed);
  const key = useId();
  return (
    <form
      className="add"
      onSubmit={(event) => {
        event.preventDefault();
        if (blocker) return;
        onAdd(entity.trim().toLowerCase(), parsed.ids);
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
          aria-invalid={entityProblem !== undefined}
          aria-describedby={entityProblem ? `${key}-entity` : undefined}
        />
        {entityProblem && (
          <span className="field-error" id={`${key}-entity`} data-testid="entity-error">
            {entityProblem}
          </span>
        )}
      </label>
      <label>
        Activity ids (paste any text containing them)
        <textarea
          value={ids}
          onChange={(event) => setIds(event.target.value)}
          rows={2}
          spellCheck={false}
          aria-invalid={idProblem !== undefined}
          aria-describedby={idProblem ? `${key}-ids` : undefined}
        />
        {idProblem && (
          <span className="field-error" id={`${key}-ids`} data-testid="ids-error">
            {idProblem}
            {parsed.ids.length > 0
              ? ` (${parsed.ids.length} valid ${parsed.ids.length === 1 ? 'id' : 'ids'} found)`
              : ''}
          </span>
        )}
      </label>
      <div className="submit">
        <button type="submit" disabled={blocker !== undefined} aria-describedby={blocker ? `${key}-why` : undefined}>
          Watch {parsed.ids.length || ''}
        </button>
        {blocker && (
          <span className="why" id={`${key}-why`} data-testid="watch-why">
            {blocker}
          </span>
        )}
      </div>
    </form>
  );
}
