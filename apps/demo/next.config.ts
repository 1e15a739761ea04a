import type { NextConfig } from 'next';

const config: NextConfig = {
  reactStrictMode: true,
  // Tandem is consumed as TypeScript source through its package exports.
  transpilePackages: ['tandem'],
  // The Redis client stays a plain Node dependency instead of being bundled.
  serverExternalPackages: ['redis', '@redis/client'],
  // Compression is on: Next's gzip middleware skips responses marked `Cache-Control:
  // no-transform`, which every Tandem response is, so the event stream is never buffered.
  poweredByHeader: false,
};

export default config;
