import { createZodDto } from 'nestjs-zod';
import { nodeList } from '@dizi/contracts/node.contract';

export class NodeListDto extends createZodDto(nodeList) {}
