import { summaryText, type Totals } from './rows';
import { FILTERS, type Filter } from './view';

const LABELS: Record<Filter, string> = {
  all: 'All',
  moving: 'Still moving',
  failed: 'Failed',
  finished: 'Finished',
};

/** The totals over every watched row (whatever the filter), and the filter buttons. */
export function Summary({
  totals,
  filter,
  onFilter,
}: {
  totals: Totals;
  filter: Filter;
  onFilter: (filter: Filter) => void;
}) {
  return (
    <div className="summary">
      <p className="totals" data-testid="summary">
        {summaryText(totals)}
      </p>
      <div className="filters" role="group" aria-label="Show rows">
        {FILTERS.map((name) => (
          <button
            key={name}
            type="button"
            className="filter"
            aria-pressed={filter === name}
            data-testid={`filter-${name}`}
            onClick={() => onFilter(name)}
          >
            {LABELS[name]} <span className="count">{totals[name]}</span>
          </button>
        ))}
      </div>
    </div>
  );
}

/** Said in place of the list when the filter leaves no row. */
export function emptyFilterText(filter: Filter): string {
  return filter === 'moving'
    ? 'Nothing is still moving.'
    : filter === 'failed'
      ? 'Nothing failed.'
      : filter === 'finished'
        ? 'Nothing has finished yet.'
        : 'No rows.';
}
