terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

variable "region" {
  type    = string
  default = "ap-east-1"
}
variable "vpc_id" {
  type = string
}
variable "private_subnet_ids" {
  type = list(string)
}
variable "public_subnet_ids" {
  type = list(string)
}
variable "security_group_ids" {
  type = list(string)
}
variable "image_tag" {
  type = string
}
variable "oidc_issuer" {
  type = string
}

provider "aws" {
  region = var.region
}

resource "aws_ecs_cluster" "dizi" {
  name = "dizi"
}

module "database" {
  source             = "../../modules/database"
  name               = "dizi"
  subnet_ids         = var.private_subnet_ids
  security_group_ids = var.security_group_ids
}

module "cache" {
  source             = "../../modules/cache"
  name               = "dizi"
  subnet_ids         = var.private_subnet_ids
  security_group_ids = var.security_group_ids
}

module "blobs" {
  source = "../../modules/blob-store"
  name   = "dizi-blobs-${var.region}"
}

module "network" {
  source            = "../../modules/network"
  name              = "dizi"
  vpc_id            = var.vpc_id
  public_subnet_ids = var.public_subnet_ids
}

locals {
  common_env = {
    REDIS_URL   = "rediss://${module.cache.endpoint}:6379"
    BLOB_STORE  = "s3"
    S3_BUCKET   = module.blobs.bucket
    DIZI_DEMO   = "false"
    OIDC_ISSUER = var.oidc_issuer
  }
}

module "api" {
  source             = "../../modules/service"
  name               = "dizi-api"
  image              = "dizi/api:${var.image_tag}"
  command            = ["node", "-r", "./tools/register.cjs", "apps/api/src/main.ts"]
  environment        = local.common_env
  cluster_arn        = aws_ecs_cluster.dizi.arn
  subnet_ids         = var.private_subnet_ids
  security_group_ids = var.security_group_ids
}
