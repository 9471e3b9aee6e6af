/** Builds the API application: used by main.ts and by the integration tests, so both run the same thing. */
import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { cleanupOpenApiDoc } from 'nestjs-zod';
import pinoHttp from 'pino-http';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import Redis from 'ioredis';
import { z } from 'zod';
import { errorBody } from '@dizi/contracts/common.contract';
import type { ApiConfig } from '@dizi/config/api.config';
import { AppModule } from './app.module';
import { documentNullablesAsOpenApi30 } from './common/openapi-nullable';
import { PinoNestLogger } from './common/pino-logger';
import { rateLimitMiddleware } from './common/rate-limit.middleware';
import { securityHeaders } from './common/security-headers.middleware';
import { REDIS } from './common/tokens';
import { clientConfigRoutes } from './modules/client-config/client-config.routes';
import { ClientConfigService } from './modules/client-config/client-config.service';
import { jmapRoutes } from './modules/jmap/jmap-routes';
import { JmapService } from './modules/jmap/jmap.service';

export interface ApiApp {
  app: INestApplication;
  openApi: OpenAPIObject;
}

export async function createApiApp(config: ApiConfig, dataSource: DataSource, logger: Logger): Promise<ApiApp> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, dataSource), {
    logger: new PinoNestLogger(logger),
    // Parsers are installed below, after the rate limiter; text bodies only on their routes (request-body.ts).
    bodyParser: false,
  });
  app.disable('x-powered-by');
  app.use(pinoHttp({ logger, autoLogging: { ignore: (req) => req.url === '/api/health' }, quietReqLogger: true }));
  app.use(securityHeaders('/api/docs'));
  app.use(rateLimitMiddleware(app.get<Redis>(REDIS), config.API_RATE_LIMIT_PER_MINUTE));
  // JMAP reads its own bodies and answers its own errors (RFC 8620 problem types), so it goes before the parsers.
  app.use(jmapRoutes(app.get(JmapService)));
  // Mail clients' autoconfig/autodiscover and the MTA-STS policy: XML and text for any caller, hosted domains only.
  app.use(clientConfigRoutes(app.get(ClientConfigService), logger));
  app.useBodyParser('json', { limit: config.API_JSON_BODY_MAX_BYTES });
  app.setGlobalPrefix('api');
  app.enableShutdownHooks();

  documentNullablesAsOpenApi30(app);
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Dizi API')
      .setDescription('Control plane of the Dizi mail platform: tenants, domains, mailboxes, aliases, groups, address books, registration codes, audit.')
      .setVersion('0.1.0')
      .addBearerAuth()
      .addApiKey({ type: 'apiKey', name: 'X-API-Key', in: 'header' }, 'api-key')
      .build(),
  );
  const openApi = withErrorResponses(cleanupOpenApiDoc(document));
  SwaggerModule.setup('api/docs', app, openApi, { jsonDocumentUrl: 'api/docs-json' });
  return { app, openApi };
}

/**
 * Every operation can answer an error (400 naming the field, 401, 403, 404, 409, 413, 415, 429):
 * all in one shape, documented once as each operation's `default` response.
 */
function withErrorResponses(doc: OpenAPIObject): OpenAPIObject {
  const schemas = (doc.components ??= {}).schemas ??= {};
  schemas.ErrorBody = z.toJSONSchema(errorBody, { target: 'openapi-3.0' }) as (typeof schemas)[string];
  for (const item of Object.values(doc.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const op = item[method];
      if (!op) continue;
      op.responses.default ??= { description: 'an error: statusCode, error code, message, and the field at fault when there is one', content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } } };
    }
  }
  return doc;
}
