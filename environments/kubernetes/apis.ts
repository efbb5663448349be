import { AppsV1Api, AutoscalingV2Api, CoreV1Api, NetworkingV1Api, type KubeConfig } from "@kubernetes/client-node";

/** The typed API groups the adapter calls, built once from one kubeconfig. */
export interface KubeApis {
  core: CoreV1Api;
  apps: AppsV1Api;
  networking: NetworkingV1Api;
  autoscaling: AutoscalingV2Api;
}

/** Clients for every API group Suture's RBAC role covers (deploy/kubernetes/rbac.yaml). */
export function makeKubeApis(kubeConfig: KubeConfig): KubeApis {
  return {
    core: kubeConfig.makeApiClient(CoreV1Api),
    apps: kubeConfig.makeApiClient(AppsV1Api),
    networking: kubeConfig.makeApiClient(NetworkingV1Api),
    autoscaling: kubeConfig.makeApiClient(AutoscalingV2Api),
  };
}
