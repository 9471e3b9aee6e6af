variable "name" {
  type = string
}
variable "subnet_ids" {
  type = list(string)
}
variable "security_group_ids" {
  type = list(string)
}

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

# Queues, counters and IDLE notifications. Losing Redis delays mail (the sweeper re-enqueues from PostgreSQL).
resource "aws_elasticache_replication_group" "this" {
  replication_group_id       = var.name
  description                = "Dizi queues, rate limits and notifications"
  engine                     = "redis"
  engine_version             = "7.0"
  node_type                  = "cache.r6g.large"
  num_cache_clusters         = 2
  automatic_failover_enabled = true
  transit_encryption_enabled = true
  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = var.security_group_ids
}

output "endpoint" {
  value = aws_elasticache_replication_group.this.primary_endpoint_address
}
