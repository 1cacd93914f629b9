provider "registry.terraform.io/hashicorp/aws" {
  version     = "6.49.0"
  constraints = ">= 6.0.0, ~> 6.0, < 7.0.0"
  hashes = [
    "h1:NPu7dmezTMF2cQ3N1oKA3DbLEU4zc7ZLtgm35MgqI4g=",
    "zh:11a636bb415bf780f0ad300cab83d687aebdc51381112ae7b29862e0bee43017",
  ]
}
