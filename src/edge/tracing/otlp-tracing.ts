import { trace } from '@opentelemetry/api';
import type * as SdkTraceBase from '@opentelemetry/sdk-trace-base';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';

/**
 * `troupe serve --otlp <url>`: registers an OpenTelemetry tracer provider that sends spans to an
 * OTLP/HTTP collector (`http://collector:4318/v1/traces`). The SDK packages are not runtime
 * dependencies of Troupe (a runtime without them pays nothing for tracing); this loads them
 * and says what to install when they are missing.
 */
export async function startOtlpTracing(url: string, serviceName = 'troupe'): Promise<{ shutdown(): Promise<void> }> {
  let sdk: typeof SdkTraceBase;
  let otlp: typeof OtlpHttp;
  try {
    sdk = await import('@opentelemetry/sdk-trace-base');
    otlp = await import('@opentelemetry/exporter-trace-otlp-http');
  } catch {
    throw new Error(
      '--otlp needs the OpenTelemetry SDK beside troupe: npm install @opentelemetry/sdk-trace-base@2 @opentelemetry/exporter-trace-otlp-http@0.223',
    );
  }
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const provider = new sdk.BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new sdk.BatchSpanProcessor(new otlp.OTLPTraceExporter({ url }))],
  });
  trace.setGlobalTracerProvider(provider);
  return { shutdown: () => provider.shutdown() };
}
