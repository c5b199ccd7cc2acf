variable "cluster_name" {
  description = "Name of an EKS cluster whose workloads use IRSA."
  type        = string
}

# Review the task list with `terraform plan`; `terraform apply` carries it out.
resource "eks_pod_identity_migration" "this" {
  cluster_name = var.cluster_name

  # Keep the OIDC trust (and the IRSA annotations) for a first, reversible step.
  remove_oidc_trust = false

  # Leave these on IRSA for now.
  exclude = ["legacy/batch-runner"]

  # `terraform destroy` puts everything back as it was.
  rollback_on_destroy = true
}

output "tasks" {
  value = [for t in eks_pod_identity_migration.this.tasks : "${t.step} ${t.target}"]
}
