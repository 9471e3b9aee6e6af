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
import type { ApiConfig } from '@dizi/config/api.config';
import { AppModule } from './app.module';
import { PinoNestLogger } from './common/pino-logger';
import { rateLimitMiddleware } from './common/rate-limit.middleware';
import { REDIS } from './common/tokens';

export interface ApiApp {
  app: INestApplication;
  openApi: OpenAPIObject;
}

export async function createApiApp(config: ApiConfig, dataSource: DataSource, logger: Logger): Promise<ApiApp> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, dataSource), {
    logger: new PinoNestLogger(logger),
    bodyParser: true,
  });
  app.useBodyParser('json', { limit: '2mb' });
  app.useBodyParser('text', { type: ['text/csv', 'text/plain'], limit: '200mb' });
  app.disable('x-powered-by');
  app.use(pinoHttp({ logger, autoLogging: { ignore: (req) => req.url === '/api/health' }, quietReqLogger: true }));
  app.use(rateLimitMiddleware(app.get<Redis>(REDIS), config.API_RATE_LIMIT_PER_MINUTE));
  app.setGlobalPrefix('api');
  app.enableShutdownHooks();

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
  const openApi = cleanupOpenApiDoc(document);
  SwaggerModule.setup('api/docs', app, openApi, { jsonDocumentUrl: 'api/docs-json' });
  return { app, openApi };
}
