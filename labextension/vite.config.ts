import { defineConfig } from 'vitest/config';

// Built into the Python package; the server rewrites "./" asset URLs to /ide/static/.
export default defineConfig({
  base: './',
  build: {
    outDir: '../jupyter_ide/static/ide',
    emptyOutDir: true,
    chunkSizeWarningLimit: 8000,
    sourcemap: false,
  },
  worker: { format: 'es' },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
  },
});
