export type { PrometheusMetrics, PrometheusMetricsOptions } from './metrics';
export { prometheusMetrics } from './metrics';
