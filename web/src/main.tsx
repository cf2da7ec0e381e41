import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { adoptJwtFromFragment } from './secrets';
import './styles.css';

// Before anything renders or builds a link: a #jwt=… goes into sessionStorage and off the address bar.
adoptJwtFromFragment();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
