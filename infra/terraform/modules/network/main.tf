variable "name" {
  type = string
}
variable "vpc_id" {
  type = string
}
variable "public_subnet_ids" {
  type = list(string)
}

# Mail ports go through a network load balancer (TCP passthrough: TLS ends on the mail nodes).
locals {
  mail_ports = { smtp = 25, submission = 587, submissions = 465, imap = 143, imaps = 993, pop3 = 110, pop3s = 995 }
}

resource "aws_lb" "mail" {
  name               = "${var.name}-mail"
  load_balancer_type = "network"
  subnets            = var.public_subnet_ids
}

resource "aws_lb_target_group" "mail" {
  for_each = local.mail_ports
  name     = "${var.name}-${each.key}"
  port     = each.value
  protocol = "TCP"
  vpc_id   = var.vpc_id
  # Keep the client's address visible to the node (per-IP limits, SPF).
  preserve_client_ip = true
}

resource "aws_lb_listener" "mail" {
  for_each          = local.mail_ports
  load_balancer_arn = aws_lb.mail.arn
  port              = each.value
  protocol          = "TCP"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.mail[each.key].arn
  }
}

output "mail_target_groups" {
  value = { for k, tg in aws_lb_target_group.mail : k => tg.arn }
}
