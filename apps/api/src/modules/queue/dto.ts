import { createZodDto } from 'nestjs-zod';
import {
  createTransportRouteRequest, queueActionRequest, queueActionResult, queueEntryView, queueListQuery, queuePage, transportRouteList, transportRouteView,
} from '@dizi/contracts/queue.contract';

export class QueueListQueryDto extends createZodDto(queueListQuery) {}
export class QueueEntryDto extends createZodDto(queueEntryView) {}
export class QueuePageDto extends createZodDto(queuePage) {}
export class CreateTransportRouteDto extends createZodDto(createTransportRouteRequest) {}
export class TransportRouteDto extends createZodDto(transportRouteView) {}
export class TransportRouteListDto extends createZodDto(transportRouteList) {}
export class QueueActionDto extends createZodDto(queueActionRequest) {}
export class QueueActionResultDto extends createZodDto(queueActionResult) {}
