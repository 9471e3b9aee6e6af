/**
 * The simple rules form's two conversions (issue 18), for any signed-in caller: rules → Sieve (refusing a rule it
 * cannot save with the rule and field to fix) and Sieve → rules or `code`. Stateless: the script is saved, validated
 * (line:column) and activated through the scripts endpoints of its level, which authorise the caller.
 */
import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { createZodDto, ZodResponse } from 'nestjs-zod';
import { sieveRulesReadView, sieveRulesRequest, sieveRulesScriptView, sieveScriptContentRequest } from '@dizi/contracts/sieve-scripts.contract';
import { RuleError, rulesToSieve, sieveToRules } from '@dizi/sieve/rules';
import { badRequest } from '../../common/api-error';

class SieveRulesRequestDto extends createZodDto(sieveRulesRequest) {}
class SieveRulesScriptDto extends createZodDto(sieveRulesScriptView) {}
class SieveScriptContentDto extends createZodDto(sieveScriptContentRequest) {}
class SieveRulesReadDto extends createZodDto(sieveRulesReadView) {}

@ApiTags('sieve')
@ApiBearerAuth()
@Controller('sieve/rules')
export class SieveRulesController {
  @Post('script')
  @HttpCode(200)
  @ZodResponse({ status: 200, type: SieveRulesScriptDto })
  script(@Body() body: SieveRulesRequestDto) {
    try {
      return { content: rulesToSieve(body.rules) };
    } catch (error) {
      if (error instanceof RuleError) throw badRequest(error.message, `rules.${error.rule}.${error.field}`);
      throw error;
    }
  }

  @Post('read')
  @HttpCode(200)
  @ZodResponse({ status: 200, type: SieveRulesReadDto })
  read(@Body() body: SieveScriptContentDto) {
    return sieveToRules(body.content);
  }
}
