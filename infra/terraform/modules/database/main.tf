variable "name" {
  type = string
}
variable "subnet_ids" {
  type = list(string)
}
variable "security_group_ids" {
  type = list(string)
}
variable "instance_class" {
  type    = string
  default = "db.r6g.large"
}

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

# PostgreSQL is the source of truth for mail metadata: Multi-AZ with synchronous standby, so a
# committed row (the condition for SMTP 250) survives the loss of one zone.
resource "aws_db_instance" "this" {
  identifier                  = var.name
  engine                      = "postgres"
  engine_version              = "15"
  instance_class              = var.instance_class
  allocated_storage           = 100
  max_allocated_storage       = 2000
  db_name                     = "dizi"
  username                    = "dizi"
  manage_master_user_password = true
  multi_az                    = true
  storage_encrypted           = true
  backup_retention_period     = 14
  deletion_protection         = true
  db_subnet_group_name        = aws_db_subnet_group.this.name
  vpc_security_group_ids      = var.security_group_ids
}

output "endpoint" {
  value = aws_db_instance.this.endpoint
}
