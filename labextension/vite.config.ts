import { defineConfig } from 'vitest/config';

// Built into the Python package; the server rewrites "./" asset URLs to /ide/static/.
export default defineConfig({
  base: './',
  resolve: {
    // y-monaco imports Monaco's ESM entry by its old path; give it the app's one Monaco.
    alias: [
      {
        find: /^monaco-editor\/esm\/vs\/editor\/editor\.api(\.js)?$/,
        replacement: 'monaco-editor',
      },
    ],
  },
  build: {
    outDir: '../jupyter_ide/static/ide',
    emptyOutDir: true,
    // Monaco's editor core is one large chunk by nature; it loads after the first paint.
    chunkSizeWarningLimit: 8000,
    sourcemap: false,
    rolldownOptions: {
      input: 'index.html',
      checks: {
        // @jupyterlab/coreutils reads config through eval('require') on Node only.
        eval: false,
        bundlerTimings: false,
      },
    },
  },
  worker: { format: 'es' },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
  },
});
