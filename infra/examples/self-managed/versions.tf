terraform {
  # 1.6: `optional()` object attributes, `nonsensitive()` and the
  # lifecycle preconditions this module relies on are all stable there.
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0.0, < 7.0.0"
    }
  }
}
