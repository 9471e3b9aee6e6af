import { Module } from '@nestjs/common';
import { SieveRulesController } from './sieve-rules.controller';
import { SieveScriptsController } from './sieve-scripts.controller';
import { SieveScriptsService } from './sieve-scripts.service';

@Module({ controllers: [SieveRulesController, SieveScriptsController], providers: [SieveScriptsService] })
export class SieveScriptsModule {}
