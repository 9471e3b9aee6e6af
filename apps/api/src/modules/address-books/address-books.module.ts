import { Module } from '@nestjs/common';
import { AddressBooksController } from './address-books.controller';
import { AddressBooksService } from './address-books.service';
import { DirectoryController } from './directory.controller';

@Module({ controllers: [AddressBooksController, DirectoryController], providers: [AddressBooksService], exports: [AddressBooksService] })
export class AddressBooksModule {}
